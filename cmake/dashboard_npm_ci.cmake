# cmake -DWEB_DIR=<web> -DNPM=<npm> -P dashboard_npm_ci.cmake
# Installs web/'s locked dependencies (esbuild) when web/node_modules is
# missing or older than web/package-lock.json. Several build trees share
# web/node_modules, so one at a time.
cmake_minimum_required(VERSION 3.25)
file(LOCK ${WEB_DIR}/.npm-ci.lock GUARD PROCESS TIMEOUT 900 RESULT_VARIABLE locked)
if(NOT locked EQUAL 0)
  message(FATAL_ERROR "dashboard: cannot lock ${WEB_DIR}/.npm-ci.lock: ${locked}")
endif()
set(installed ${WEB_DIR}/node_modules/.package-lock.json)
if(EXISTS ${installed} AND EXISTS ${WEB_DIR}/node_modules/esbuild/package.json
   AND NOT ${WEB_DIR}/package-lock.json IS_NEWER_THAN ${installed})
  return()
endif()
message(STATUS "dashboard: npm ci in ${WEB_DIR}")
execute_process(COMMAND ${NPM} ci --no-audit --no-fund --loglevel=error
                WORKING_DIRECTORY ${WEB_DIR} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "dashboard: npm ci in ${WEB_DIR} failed (${rc})")
endif()
# npm ci wrote node_modules/.package-lock.json just now: newer than the lock.
file(TOUCH ${installed})
